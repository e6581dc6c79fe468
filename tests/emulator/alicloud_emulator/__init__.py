"""Local emulator of the Alibaba Cloud OOS, ESS, ECS and STS APIs (see README.md)."""

__version__ = "0.1.0"
