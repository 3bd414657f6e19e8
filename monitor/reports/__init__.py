"""The board pack: an Excel workbook of a commissioner's or a board's
services for one quarter, read from the warehouse marts with disclosure
control applied, so it can go to a board as it is."""
