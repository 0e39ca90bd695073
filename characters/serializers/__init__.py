from characters.serializers.character import CharacterSerializer

__all__ = ["CharacterSerializer"]
