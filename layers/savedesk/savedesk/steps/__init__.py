"""The domain logic of each checklist step, one module per step, named after it."""
