"""The console's pages, one module per concern; ``routes.PAGES`` lists them."""
