"""The council's Word documents (thidua documents), filled from templates an agency can edit."""
