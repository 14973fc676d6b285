"""Built-in plugins: the criterion methods, expression functions and title checks every policy can use."""
