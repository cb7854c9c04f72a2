"""staffcast: workload forecasting and staff scheduling for customer service.

The `forecast` and `scheduler` packages never import each other; this package holds the
CLI, the YAML config loading and the pipeline that wires them together.
"""

__version__ = "0.1.0"
