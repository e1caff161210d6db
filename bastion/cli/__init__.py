"""The bastion command line."""
