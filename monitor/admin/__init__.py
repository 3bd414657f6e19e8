"""Administration pages: organisations, partnerships and users, for the admin role."""
