"""The version of the nesf Python package (read by setuptools without importing nesf)."""

__version__ = "0.1.0"
