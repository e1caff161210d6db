"""HTTP adapters: each turns its wire format into a Call and the Result back."""
