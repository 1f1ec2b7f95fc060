"""Conformance test kit: base test classes that plugin authors subclass.

Like ``langchain-tests``: inherit, set the component id (and small data), and pytest
collects a standard battery of checks that every omniad component must pass::

    from omniad.testing import DetectorConformance

    class TestMyDetector(DetectorConformance):
        detector_id = "myplugin.mydetector"
        params = {"k": 3}

        def make_subset(self):
            return my_small_subset()     # an omniad.Subset with train and labelled test

Checks cover registration and cards, parameter validation, fit/score shapes, finite
scores, localization shapes, save/load round trip, determinism under a seed, and clear
errors on bad input. Override a test method to skip it with a reason where a check does
not apply (e.g. ``test_seed_determinism`` for a method that is deterministic by nature
still passes; a truly non-deterministic GPU kernel should say so).
"""

from omniad.testing.dataset import DatasetConformance
from omniad.testing.detector import DetectorConformance
from omniad.testing.metric import MetricCase, MetricConformance

__all__ = ["DatasetConformance", "DetectorConformance", "MetricCase", "MetricConformance"]
