"""Query functions (asyncpg) returning msgspec structs, one module per resource family."""
