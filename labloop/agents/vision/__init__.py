"""Computer-vision turbidity: vial region, frame quality, haze index and its 0-5 calibration (OpenCV, no model)."""

from labloop.agents.vision.calibration import Calibration
from labloop.agents.vision.haze import Measurement, VialFeatures, measure_frame, measure_image
from labloop.agents.vision.roi import Roi, RoiError

__all__ = ["Calibration", "Measurement", "Roi", "RoiError", "VialFeatures", "measure_frame", "measure_image"]
