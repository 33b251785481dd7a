package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/shortlinks/shortlinks/db"
)

// demoBusinesses are local businesses of the kind marketers text about.
var demoBusinesses = []db.NewBusiness{
	{Name: "Rosa's Bakery", City: "Austin", Phone: "+15125550134", SiteURL: "https://rosasbakery.example.com/"},
	{Name: "Northside Plumbing & Heating", City: "Denver", Phone: "+13035550172", SiteURL: "https://northsideplumbing.example.com/"},
	{Name: "Bright Smile Dental", City: "Portland", Phone: "+15035550119", SiteURL: "https://brightsmiledental.example.com/book"},
	{Name: "Iron Temple Gym", City: "Phoenix", Phone: "+16025550148", SiteURL: "https://irontemplegym.example.com/"},
	{Name: "Café Lumière", City: "Montréal", Phone: "+15145550166", SiteURL: "https://cafelumiere.example.com/menu"},
	{Name: "Green Thumb Landscaping", City: "Raleigh", Phone: "+19195550103", SiteURL: "https://greenthumb.example.com/"},
	{Name: "Paws & Claws Grooming", City: "San Diego", Phone: "+16195550187", SiteURL: "https://pawsandclaws.example.com/appointments"},
	{Name: "Lakeside Auto Repair", City: "Madison", Phone: "+16085550151", SiteURL: "https://lakesideauto.example.com/"},
	{Name: "Sakura Sushi Bar", City: "Seattle", Phone: "+12065550129", SiteURL: "https://sakurasushi.example.com/"},
	{Name: "Hometown Hardware", City: "Boise", Phone: "+12085550140", SiteURL: "https://hometownhardware.example.com/"},
	{Name: "Zen Garden Spa", City: "Santa Fe", Phone: "+15055550192", SiteURL: "https://zengardenspa.example.com/offers?utm_source=sms"},
	{Name: "Golden Crust Pizzeria", City: "Chicago", Phone: "+13125550175", SiteURL: "https://goldencrust.example.com/"},
}

// errNotEmpty means seeding was refused because data already exists.
var errNotEmpty = errors.New("database already has businesses; demo data goes only into an empty database")

func seedDemo(ctx context.Context, cfg *config) error {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.DB().Close()
	n, err := insertDemo(ctx, store)
	if err != nil {
		return err
	}
	fmt.Printf("seeded %d demo businesses\n", n)
	return nil
}

// insertDemo adds the demo businesses when the database has none.
func insertDemo(ctx context.Context, store *db.Store) (int, error) {
	n, err := store.CountBusinesses(ctx)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		return 0, errNotEmpty
	}
	for _, b := range demoBusinesses {
		if _, err := store.CreateBusiness(ctx, b); err != nil {
			return 0, err
		}
	}
	return len(demoBusinesses), nil
}
