"""People and their accounts: invitations, lifecycle, delegated administration, each person's own account page."""
