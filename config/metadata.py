"""OPTIONS answers of the API (its own module: DRF resolves it while defining APIView)."""

from rest_framework.metadata import SimpleMetadata


class Metadata(SimpleMetadata):
    """OPTIONS answers name the view and its media types only: describing each writable field
    needs a serializer per view (some views have none, which made OPTIONS a 500) and tells a
    prober more than the documented schema does."""

    def determine_actions(self, request, view):
        return {}
