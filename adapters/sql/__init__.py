"""The relational adapter: SQLModel tables, repositories and Units of Work over SQLAlchemy 2."""
