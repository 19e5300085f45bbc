"""The Signal's storage: its columns declared once (`columns`), the JSON forms of
its rows (`forms`) and its batch writes (`writes`, through core.batch_sql).

The read paths, the serializers and the write services take the columns from here;
nothing else names them all or builds SQL for signals.
"""
