"""One client per vendor. Nothing outside this package sees a vendor's wire format."""
