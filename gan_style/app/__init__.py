"""`gan-style serve`: a local web page to translate, compare and stylize images.

`handlers` holds what the page does as plain functions (tested directly); `page` wires Gradio's
widgets to them. Gradio is imported only when the page is built.
"""
