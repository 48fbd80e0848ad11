"""Pages: what one notebook shows. A page module builds its sections from typed parameters and
displays them; pages sit side by side (none imports another) and never import the runner."""
