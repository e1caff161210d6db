"""The request pipeline: Call, Result, Stage and the fold that builds it."""

from bastion.pipeline.build import build_pipeline
from bastion.pipeline.call import Call, Result
from bastion.pipeline.stage import Next, Stage

__all__ = ["Call", "Next", "Result", "Stage", "build_pipeline"]
