"""Neural style transfer by optimisation (Gatys et al. 2016), with colour control (2017)."""

from gan_style.neural_style.optimize import StyleOptions, StyleResult, stylize
from gan_style.neural_style.vgg import VGGFeatures

__all__ = ["StyleOptions", "StyleResult", "VGGFeatures", "stylize"]
