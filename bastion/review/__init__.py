"""Humans in the loop: review policies, the review queue, overrides and corrections export."""

from bastion.review.entities import ReviewEvent, ReviewItem, Worker
from bastion.review.policy import REVIEW_HEADER, ReviewPolicy
from bastion.review.queue import ReviewQueue
from bastion.review.service import ReviewService
from bastion.review.stage import DecideStage

__all__ = [
    "REVIEW_HEADER",
    "DecideStage",
    "ReviewEvent",
    "ReviewItem",
    "ReviewPolicy",
    "ReviewQueue",
    "ReviewService",
    "Worker",
]
