"""Scoring translated images: SSIM/PSNR protocols, FID/KID, reports and run comparison.

Usable on its own, without the training code: `score_folders("paired", "AtoB", out, truth)`.
"""

from gan_style.evaluation.metrics import luminance, psnr, ssim
from gan_style.evaluation.protocols import PROTOCOLS, ImageScore, match_by_name, score_folders
from gan_style.evaluation.report import summarize_scores, write_json, write_scores_csv
from gan_style.evaluation.statistics import summarize

__all__ = [
    "PROTOCOLS",
    "ImageScore",
    "luminance",
    "match_by_name",
    "psnr",
    "score_folders",
    "ssim",
    "summarize",
    "summarize_scores",
    "write_json",
    "write_scores_csv",
]
