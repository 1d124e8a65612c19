"""A virtual Marlin syringe dispenser served on a TCP port or a pseudo-terminal, with fault knobs."""

from labloop.devices.simulator.faults import FAULTS, FaultPlan, FaultSpecError
from labloop.devices.simulator.firmware import MachineLimits, VirtualDispenser
from labloop.devices.simulator.server import RobotSimulator, robot_simulator, running_simulator

__all__ = ["FAULTS", "FaultPlan", "FaultSpecError", "MachineLimits", "RobotSimulator", "VirtualDispenser",
           "robot_simulator", "running_simulator"]
