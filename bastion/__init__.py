"""Bastion: the production layer for AI models."""
