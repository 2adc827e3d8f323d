print("Hello from container!")
