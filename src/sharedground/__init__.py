"""sharedground: the doctor-manager relationship survey."""

__version__ = "0.1.0"
