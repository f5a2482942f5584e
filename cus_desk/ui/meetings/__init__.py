"""Séances CAS screen (MeetingsScreen), meeting mode and follow-up view."""
