"""The core customer register: people, identity, contacts, leases, contact log, disclosures."""
