"""cityhub: the public information platform (城市大脑) of a smart city."""

__version__ = "0.1.0"
__all__ = ["__version__"]
