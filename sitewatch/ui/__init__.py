"""The Gradio web page (`sitewatch ui`): upload, analysis, and a streaming chat in Korean or English."""
