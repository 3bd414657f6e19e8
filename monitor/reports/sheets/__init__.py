"""One module per part of the board pack workbook."""
