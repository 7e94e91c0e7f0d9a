"""Forms themselves: field types, built-in templates, answers, expressions, skip logic and calculations, XLSForm."""
