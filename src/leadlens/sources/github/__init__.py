"""The GitHub source: REST client, pure mapping, incremental source and offline replay."""
