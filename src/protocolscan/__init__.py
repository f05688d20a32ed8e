"""protocolscan: reads Dutch schools' absence protocols and says what is in them and what is missing."""

__version__ = "0.1.0"
