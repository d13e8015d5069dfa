"""The embedded local stack: moto for AWS, a local HTTP API, and vendor stand-ins."""
