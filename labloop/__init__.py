"""labloop: a lab assistant for chemistry labs that run a dispensing robot."""

__version__ = "0.1.0"
