"""The Gradio chat UI over the shared pipeline (`rag serve`); see ui/app.py."""
