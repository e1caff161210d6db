"""Drift monitoring: reference profiles, fixed-memory windows, a verdict that does not cry wolf."""

from bastion.monitoring.charts import ChartFiles, render_html, write_charts, write_png
from bastion.monitoring.config import DriftSettings
from bastion.monitoring.drift import assess
from bastion.monitoring.embedding import EmbeddingProfile
from bastion.monitoring.monitor import DriftMonitor
from bastion.monitoring.profile import FeatureProfile, ReferenceProfile, build_profile
from bastion.monitoring.report import DriftReport, FeatureDrift
from bastion.monitoring.window import Window, WindowSnapshot

__all__ = [
    "ChartFiles",
    "DriftMonitor",
    "DriftReport",
    "DriftSettings",
    "EmbeddingProfile",
    "FeatureDrift",
    "FeatureProfile",
    "ReferenceProfile",
    "Window",
    "WindowSnapshot",
    "assess",
    "build_profile",
    "render_html",
    "write_charts",
    "write_png",
]
