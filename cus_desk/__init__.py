"""CUS Desk — suivi social des locataires (dossiers CAS, séances, seniors 65+, partenaires)."""

__version__ = "0.1.0"
APP_NAME = "CUS Desk"
APP_ORG = "CUS Desk"
