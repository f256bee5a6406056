"""EPCIS 2.0 for partners: capture (REST binding), the event query with nextPageToken, named queries."""
