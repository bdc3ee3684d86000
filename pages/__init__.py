"""The Streamlit side: page scripts in ``views/``, the shared sidebar and session state in
``widgets/``.

No ``.py`` file may sit directly in this folder: Streamlit treats a ``pages/`` folder next to the
main script as a legacy (v1) multipage app and, on a server's first run and on every AppTest run,
would execute such files as pages of their own, bypassing ``app.py``'s ``st.navigation`` and the
shared sidebar.
"""
