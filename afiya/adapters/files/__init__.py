"""File formats: spreadsheets (XLSX with openpyxl) and CSV, read and written in memory."""
