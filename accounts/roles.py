"""Roles are Django groups (created by migrations); readers are users in no group."""

AUTHORS = "Authors"
MODERATORS = "Moderators"
