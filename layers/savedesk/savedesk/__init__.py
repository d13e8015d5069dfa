"""SaveDesk: the shared library of the cancellation desk, shipped as a Lambda layer."""
