"""The operator's side of the catalogue, by what it is about: `forms` (each field's rule,
form text and display), `records` (find, create, change fields, publish), `itinerary`
(a trip's days) and `gallery` (photos). Every service function takes typed values."""
