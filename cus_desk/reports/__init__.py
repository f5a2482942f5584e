"""Printed documents (reportlab, A4, French). reportlab is imported lazily,
inside the functions that build a PDF: start-up time matters."""
