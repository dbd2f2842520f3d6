"""Running the archive unattended: is it healthy (`status`)."""
