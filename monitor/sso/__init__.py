"""Single sign-on through each organisation's own OpenID Connect provider."""
