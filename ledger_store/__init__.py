"""The data layer: models, migrations, sessions and queries. Imports nothing else of ours."""
