"""Ports every module uses: background jobs, blob storage, field encryption."""
