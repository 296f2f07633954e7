"""Policy: rules over changes (gates), their evaluation, and the audit of how history met them."""
