"""Use cases called by the UI and the CLI. Access rules and the audit trail
live here so that neither can bypass them. No Qt."""
